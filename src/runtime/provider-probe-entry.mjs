// Entry of a provider probe's child process (./provider-probe.ts): registers tsx, then runs the TypeScript probe.
import { register } from 'tsx/esm/api';

register();
await import('./provider-probe-child.ts');
