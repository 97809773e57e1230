/** Row "direct": the target app itself, the baseline every ratio divides by. */
import { startTargetApp } from './target.mjs';

export const directRow = {
  id: 'direct',
  label: 'direct',
  unavailable: () => null,
  async start() {
    const app = await startTargetApp();
    return {
      port: app.port,
      host: `127.0.0.1:${app.port}`,
      info: {},
      procs: [app.proc],
    };
  },
};
