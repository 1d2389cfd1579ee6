import { Empty } from '../ui/states';

export function RunsSection() {
  return <Empty title="RunsSection: being built" />;
}
