import { Link } from '../components/link.tsx';
import { useTitle } from '../use-session.ts';

export function NotFoundPage() {
  useTitle('Not found');
  return (
    <>
      <h1>No such page</h1>
      <p>
        The console has no page at this address. <Link to="/">Go to the overview</Link>.
      </p>
    </>
  );
}
