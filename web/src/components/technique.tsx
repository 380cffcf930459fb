import { attackUrl } from '../format.ts';

/** ATT&CK technique ids, each linked to its page on attack.mitre.org. */
export function Techniques({ ids }: { ids: readonly string[] }) {
  if (ids.length === 0) return <span className="muted">—</span>;
  return (
    <span className="techniques">
      {ids.map((id) => {
        const href = attackUrl(id);
        return href ? (
          <a key={id} href={href} target="_blank" rel="noopener noreferrer" className="technique">
            {id}
          </a>
        ) : (
          <span key={id}>{id}</span>
        );
      })}
    </span>
  );
}
