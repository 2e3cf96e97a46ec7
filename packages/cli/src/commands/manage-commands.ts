import type { SandboxState } from '@paddock/core';
import { parseDurationMs } from '@paddock/core/client';
import { ApiClient, Sandbox } from '@paddock/sdk';
import type { Command } from 'commander';
import type { Connection } from '../connection/resolve-connection.js';
import { CliError } from '../output/cli-error.js';
import { formatTable, printJson, relativeTime } from '../output/table.js';
import { collect, pairs } from './options.js';

export function registerManageCommands(program: Command, connection: () => Connection): void {
  program
    .command('ls')
    .alias('ps-sandboxes')
    .description('list sandboxes (running and paused unless --all or --state)')
    .option('-a, --all', 'include killed sandboxes')
    .option('--state <state>', 'running, paused, killed or all')
    .option('-l, --label <key=value>', 'only sandboxes with this label (repeatable)', collect)
    .option('-q, --quiet', 'print ids only')
    .option('--json', 'print JSON')
    .action(async (flags: { all?: boolean; state?: string; label?: string[]; quiet?: boolean; json?: boolean }) => {
      const state = (flags.state ?? (flags.all ? 'all' : undefined)) as SandboxState | 'all' | undefined;
      if (state && !['running', 'paused', 'killed', 'all'].includes(state)) throw new CliError(`--state: unknown state "${state}"`);
      const list = await Sandbox.list({ ...connection(), state, metadata: pairs(flags.label, '--label') });
      if (flags.json) return printJson(list);
      if (flags.quiet) return void process.stdout.write(list.map((s) => `${s.id}\n`).join(''));
      const rows = list.map((s) => [
        s.id,
        s.template,
        s.state === 'killed' ? `killed (${s.endReason ?? '?'})` : s.state,
        relativeTime(s.createdAt),
        s.state === 'killed' ? '-' : relativeTime(s.expiresAt),
        Object.entries(s.metadata)
          .map(([k, v]) => `${k}=${v}`)
          .join(','),
      ]);
      process.stdout.write(`${formatTable(['ID', 'TEMPLATE', 'STATE', 'CREATED', 'EXPIRES', 'LABELS'], rows)}\n`);
    });

  program
    .command('inspect')
    .description('show everything known about a sandbox (JSON)')
    .argument('<id>', 'sandbox id')
    .action(async (id: string) => {
      const api = new ApiClient(connection());
      printJson(await api.json('GET', `/v1/sandboxes/${encodeURIComponent(id)}`));
    });

  program
    .command('kill')
    .description('kill sandboxes and remove everything they had')
    .argument('[ids...]', 'sandbox ids')
    .option('--all', 'kill every sandbox')
    .action(async (ids: string[], flags: { all?: boolean }) => {
      const conn = connection();
      if (flags.all) {
        const { killed } = await new ApiClient(conn).json<{ killed: string[] }>('DELETE', '/v1/sandboxes');
        return void process.stdout.write(killed.map((id) => `${id}\n`).join(''));
      }
      if (ids.length === 0) throw new CliError('kill needs sandbox ids or --all');
      let failed = 0;
      for (const id of ids) {
        try {
          await new ApiClient(conn).json('DELETE', `/v1/sandboxes/${encodeURIComponent(id)}`);
          process.stdout.write(`${id}\n`);
        } catch (err) {
          failed++;
          process.stderr.write(`paddock: ${(err as Error).message}\n`);
        }
      }
      if (failed) process.exitCode = 1;
    });

  program
    .command('timeout')
    .description('set the time left before a sandbox is killed, counted from now')
    .argument('<id>', 'sandbox id')
    .argument('<duration>', 'e.g. 30m, 2h')
    .action(async (id: string, duration: string) => {
      const sbx = await Sandbox.connect(id, connection());
      await sbx.setTimeout(parseDurationMs(duration, 'duration'));
      process.stdout.write(`${sbx.id} expires ${relativeTime(sbx.snapshot.expiresAt)}\n`);
    });

  program
    .command('ps')
    .description('list the processes started in a sandbox through Paddock')
    .argument('<id>', 'sandbox id')
    .option('--json', 'print JSON')
    .action(async (id: string, flags: { json?: boolean }) => {
      const sbx = await Sandbox.connect(id, connection());
      const procs = await sbx.commands.list();
      if (flags.json) return printJson(procs);
      const rows = procs.map((p) => [
        String(p.pid),
        p.state,
        p.exitCode === null ? '-' : `${p.exitCode}${p.signal ? ` (${p.signal})` : ''}`,
        relativeTime(p.startedAt),
        p.cmd.join(' '),
      ]);
      process.stdout.write(`${formatTable(['PID', 'STATE', 'EXIT', 'STARTED', 'COMMAND'], rows)}\n`);
    });

  program
    .command('logs')
    .description('print the output of a background command (the latest one unless PID is given)')
    .argument('<id>', 'sandbox id')
    .argument('[pid]', 'process id from `paddock exec -d` or `paddock ps`')
    .option('-f, --follow', 'keep streaming until the command exits')
    .action(async (id: string, pidText: string | undefined, flags: { follow?: boolean }) => {
      const conn = connection();
      const sbx = await Sandbox.connect(id, conn);
      let pid = pidText === undefined ? undefined : Number(pidText);
      if (pid === undefined) {
        const latest = (await sbx.commands.list()).sort((a, b) => b.startedAt.localeCompare(a.startedAt))[0];
        if (!latest) throw new CliError(`sandbox ${id} has no processes started through Paddock`);
        pid = latest.pid;
      }
      if (!Number.isInteger(pid)) throw new CliError(`"${pidText}" is not a process id`);
      const api = new ApiClient(conn);
      const path = `/v1/sandboxes/${encodeURIComponent(id)}/processes/${pid}/output`;
      for await (const event of api.ndjson<{ type: string; data?: string }>('GET', path, { query: { follow: Boolean(flags.follow) }, timeoutMs: 0 })) {
        if (event.type === 'stdout' && event.data) process.stdout.write(Buffer.from(event.data, 'base64'));
        if (event.type === 'stderr' && event.data) process.stderr.write(Buffer.from(event.data, 'base64'));
      }
    });
}
