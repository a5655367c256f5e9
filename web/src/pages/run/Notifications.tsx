/** The run page's notifications: each POST of the run's events, its state, tries and last answer (URLs by origin only). */
import type { DeliveryView } from '../../../../src/protocol/notify-methods.ts';
import { apiPath, useApi } from '../../api.ts';
import { Ago } from '../../components/ui.tsx';

export default function RunNotifications({ runId, status }: { runId: string; status: string }) {
  // Asked again when the run's status changes: a finished run has just sent its notification.
  const { data } = useApi<{ deliveries: DeliveryView[] }>(`${apiPath('runs', runId)}/notifications`, [status]);
  const deliveries = data?.deliveries ?? [];
  if (deliveries.length === 0) return null;
  return (
    <section className="run-notifications" aria-label="Notifications">
      <h2>Notifications</h2>
      <div className="table-wrap">
        <table className="table table-compact">
          <thead>
            <tr>
              <th scope="col">Event</th>
              <th scope="col">URL</th>
              <th scope="col">State</th>
              <th scope="col">Tries</th>
              <th scope="col">Last answer</th>
              <th scope="col">When</th>
            </tr>
          </thead>
          <tbody>
            {deliveries.map((d) => (
              <tr key={d.id}>
                <td>{d.event}</td>
                <td>
                  <code>{d.url}</code>
                </td>
                <td>{d.state}</td>
                <td>{d.tries}</td>
                <td className="small">{d.lastError ?? (d.lastStatus === null ? '—' : String(d.lastStatus))}</td>
                <td className="small">
                  <Ago at={d.updatedAt} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
