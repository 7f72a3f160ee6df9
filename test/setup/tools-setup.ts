import { ensureTools } from '../../scripts/ensure-tools';

/** The broker-free tier's global setup: only the programs it runs (promtool), installed if missing. */
export default function toolsSetup(): void {
  ensureTools();
}
