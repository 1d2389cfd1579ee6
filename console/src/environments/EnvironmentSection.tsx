import { Empty } from '../ui/states';

export function EnvironmentSection() {
  return <Empty title="EnvironmentSection: being built" />;
}
