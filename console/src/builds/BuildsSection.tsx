import { Empty } from '../ui/states';

export function BuildsSection() {
  return <Empty title="BuildsSection: being built" />;
}
