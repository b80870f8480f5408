import { reviewAuditLogs, recheck } from './src/audit/review.ts';
import * as ev from './src/audit/events.ts';
let n = 0;
const t0 = process.cpuUsage();
const r = await reviewAuditLogs({ inputs: [{ path: '/tmp/i15-images.log' }], webhookNames: ['mutate.images.image-admission.io', 'validate.images.image-admission.io'], onEntry: () => { n++; } });
const t1 = process.cpuUsage(t0);
console.log(r.recheck, n, t1);
