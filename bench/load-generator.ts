/** The load generator's process, as the runners hold it: one at a time, replaced after a failure. */
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { IpcPeer } from './ipc';
import { start, stop } from './processes';

export class LoadGenerator {
  private child: ChildProcess | null = null;
  private peer: IpcPeer | null = null;

  constructor(private readonly prefix: string[]) {}

  /** The running load generator, started again if a previous run killed it. */
  get(): IpcPeer {
    if (this.child === null || this.child.exitCode !== null || this.child.signalCode !== null) {
      this.child = start(this.prefix, [join(__dirname, 'client.js')], 'load generator');
      this.peer = new IpcPeer(this.child, 'load generator');
    }
    return this.peer as IpcPeer;
  }

  /** Kills one in an unknown state (a failed run left it mid-request); get() starts another. */
  async restart(): Promise<void> {
    if (this.child !== null) {
      this.child.kill('SIGKILL');
      await stop(this.child, null);
    }
    this.child = null;
  }

  async close(): Promise<void> {
    if (this.child !== null) await stop(this.child, this.peer);
  }
}
