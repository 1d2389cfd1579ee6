import { Empty } from '../ui/states';

export function PipelinesSection() {
  return <Empty title="PipelinesSection: being built" />;
}
