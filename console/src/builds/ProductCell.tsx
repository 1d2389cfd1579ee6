import { Link } from 'react-router';
import type { Product } from './buildInfo';

/** What a build made: the image repository (branch, chart, job) and its tag, the tag linking to the build's log. */
export function ProductCell({ product, logUrl, long = false }: { product: Product | null; logUrl?: string; long?: boolean }) {
  if (!product) return <span className="muted">—</span>;
  const { name, tag, external } = product;
  return (
    <span className="product">
      {name && (
        <span className="mono product-name" title={name}>
          {name}
          {tag ? (product.kind === 'image' ? ':' : ' ') : ''}
        </span>
      )}
      {tag && (logUrl ? <Link to={logUrl} className="mono product-tag" title={`${name ?? ''} ${tag}: its build's log`}>{tag}</Link> : <span className="mono product-tag">{tag}</span>)}
      {external &&
        (long && external.url ? (
          <a href={external.url} target="_blank" rel="noreferrer" className="product-external">
            {external.label}
          </a>
        ) : (
          <span className="muted product-external"> {external.label}</span>
        ))}
    </span>
  );
}
