import net from 'node:net';

export type ProxyMode = 'forward' | 'refuse' | 'reset';

/**
 * A TCP proxy on loopback in front of another endpoint (the emulator), to take the network away
 * without touching what is behind it: `refuse()` closes the listener (connections are refused),
 * `reset()` accepts and immediately destroys every connection, `forward()` pipes them through again.
 * Every switch away from `forward` also cuts the connections already open (keep-alive sockets and
 * requests in flight), as a network outage would.
 */
export class TcpProxy {
  readonly url: string;
  private server: net.Server | undefined;
  private readonly open = new Set<net.Socket>();
  private current: ProxyMode = 'forward';
  /** Connections accepted and cut at once while in `reset` mode. */
  resets = 0;
  /** Connections piped to the target. */
  forwarded = 0;

  private constructor(
    readonly port: number,
    private readonly target: { host: string; port: number },
  ) {
    this.url = `http://127.0.0.1:${port}`;
  }

  static async start(targetUrl: string): Promise<TcpProxy> {
    const target = new URL(targetUrl);
    const probe = net.createServer();
    const port = await new Promise<number>((resolve, reject) => {
      probe.once('error', reject);
      probe.listen(0, '127.0.0.1', () => resolve((probe.address() as net.AddressInfo).port));
    });
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const proxy = new TcpProxy(port, { host: target.hostname, port: Number(target.port || 80) });
    await proxy.listen();
    return proxy;
  }

  get mode(): ProxyMode {
    return this.current;
  }

  /** Connections refused: nothing listens on the port. */
  async refuse(): Promise<void> {
    this.current = 'refuse';
    this.cutAll();
    await this.unlisten();
  }

  /** Connections accepted, then destroyed before a byte is read. */
  async reset(): Promise<void> {
    this.current = 'reset';
    this.cutAll();
    await this.listen();
  }

  /** Connections piped to the target again. */
  async forward(): Promise<void> {
    this.current = 'forward';
    await this.listen();
  }

  async close(): Promise<void> {
    this.cutAll();
    await this.unlisten();
  }

  private cutAll(): void {
    for (const socket of this.open) socket.destroy();
    this.open.clear();
  }

  private async listen(): Promise<void> {
    if (this.server) return;
    const server = net.createServer((client) => this.accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
  }

  private async unlisten(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private accept(client: net.Socket): void {
    if (this.current !== 'forward') {
      this.resets++;
      client.resetAndDestroy();
      return;
    }
    this.forwarded++;
    const upstream = net.connect(this.target.port, this.target.host);
    for (const socket of [client, upstream]) {
      this.open.add(socket);
      socket.on('error', () => {});
      socket.on('close', () => {
        this.open.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  }
}
