export { runDoctor, readDockerInfoFile } from './doctor.js';
export type { DoctorOptions } from './doctor.js';
export { formatReport, report, EXIT_USAGE } from './findings.js';
export type { Finding, FindingLevel, DoctorReport } from './findings.js';
export { APP_PERMISSIONS, APP_EVENTS, APP_EVENT_SETTINGS, appSettingFindings } from './github-checks.js';
export type { GitHubTarget } from './github-checks.js';
export { hostFindings } from './host-checks.js';
export { main } from './cli.js';
