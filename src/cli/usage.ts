/** The -help text, generated from the flag table. */
import { FLAGS, envName } from '../config/flagSpec.js';

export function usageText(): string {
  const lines = [
    'Usage: haconfd [flags]                 render conf.d resources (confd-compatible)',
    '       haconfd haproxy <command> …     HAProxy runtime: status, drain, maint, ready',
    '       haconfd keepalived render …     keepalived.conf + chk_haproxy.sh for an HAProxy pair',
    '',
    'Flags (-flag, --flag, -flag=value, -flag value; every flag also reads HACONFD_<NAME>):',
  ];
  for (const f of FLAGS) {
    const left = `  -${f.name}${f.placeholder ? ' ' + f.placeholder : ''}`;
    lines.push(`${left.padEnd(30)} ${f.help}${f.flagOnly ? '' : ` [${envName(f.name)}]`}`);
  }
  lines.push('', 'Exit codes: 0 all resources in sync, 1 at least one resource failed, 2 usage or configuration error.');
  return lines.join('\n') + '\n';
}
