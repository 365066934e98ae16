import type { Page, Project } from '../lib/api';
import { useApi } from '../lib/use-api';

/** The token's projects; "" = all of them. */
export function ProjectPicker({ value, onChange }: { value: string; onChange: (project: string) => void }) {
  const projects = useApi<Page<Project>>('/api/v1/projects');
  return (
    <label>
      Project
      <select name="project" value={value} onChange={(e) => onChange((e.target as HTMLSelectElement).value)}>
        <option value="">All projects</option>
        {projects.state === 'ok' && projects.data.items.map((p) => <option key={p.project} value={p.project}>{p.project}</option>)}
        {value !== '' && projects.state === 'ok' && !projects.data.items.some((p) => p.project === value) && <option value={value}>{value}</option>}
      </select>
    </label>
  );
}
