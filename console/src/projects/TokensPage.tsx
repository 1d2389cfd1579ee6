import { Empty } from '../ui/states';

export function TokensPage() {
  return <Empty title="TokensPage: being built" />;
}
