import { Empty } from '../ui/states';

export function MembersPage() {
  return <Empty title="MembersPage: being built" />;
}
