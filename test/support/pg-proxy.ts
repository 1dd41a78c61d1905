// A TCP proxy in front of the test PostgreSQL that can cut a connection at an exact point
// of the wire protocol, or answer as a server that is still starting: what a killed or
// restarting database does to a client, made repeatable. Messages are framed as the
// protocol frames them (a type byte and a length; the client's first message has no type).
import { connect, createServer, type Server, type Socket } from "node:net";

/** When to cut a connection: after a server message of this type, or when the client sends text. */
export type Cut = { afterServerMessage: string } | { onClientText: string };

export interface PgProxy {
  port: number;
  /** Cuts the next connection that meets the condition (a FIN to the client, as a dying backend sends). */
  cutNext(cut: Cut): void;
  /** While on, every new connection is refused as PostgreSQL refuses one during start-up (57P03). */
  setStartingUp(isStartingUp: boolean): void;
  /** Connections cut so far. */
  cuts(): number;
  close(): Promise<void>;
}

/** Splits whole messages off the front of `buffer`; `hasType` false for the client's first. */
function takeMessages(buffer: Buffer, hasType: () => boolean): { messages: Buffer[]; rest: Buffer } {
  const messages: Buffer[] = [];
  let rest = buffer;
  for (;;) {
    const offset = hasType() ? 1 : 0;
    if (rest.length < offset + 4) break;
    const length = rest.readUInt32BE(offset) + offset;
    if (rest.length < length) break;
    messages.push(rest.subarray(0, length));
    rest = rest.subarray(length);
  }
  return { messages, rest };
}

/** The ErrorResponse PostgreSQL sends a connection that arrives while it is starting. */
function startingUpError(): Buffer {
  const fields = ["SFATAL", "VFATAL", "C57P03", "Mthe database system is starting up"]
    .map((field) => `${field}\0`)
    .join("");
  const body = Buffer.from(`${fields}\0`);
  const header = Buffer.alloc(5);
  header.write("E", 0);
  header.writeUInt32BE(body.length + 4, 1);
  return Buffer.concat([header, body]);
}

export async function startPgProxy(upstreamPort: number): Promise<PgProxy> {
  let pending: Cut | undefined;
  let isStartingUp = false;
  let cutCount = 0;
  const sockets = new Set<Socket>();

  const server: Server = createServer((client) => {
    sockets.add(client);
    client.on("close", () => sockets.delete(client));
    client.on("error", () => {});
    if (isStartingUp) {
      client.once("data", () => client.end(startingUpError()));
      return;
    }
    const upstream = connect(upstreamPort, "127.0.0.1");
    sockets.add(upstream);
    upstream.on("error", () => {});
    const cut = (last?: Buffer) => {
      cutCount++;
      if (last) client.end(last);
      else client.end();
      upstream.destroy();
    };
    let isFirstClientMessage = true;
    let fromClient: Buffer = Buffer.alloc(0);
    client.on("data", (data: Buffer) => {
      const framed = takeMessages(Buffer.concat([fromClient, data]), () => !isFirstClientMessage);
      fromClient = framed.rest;
      for (const message of framed.messages) {
        isFirstClientMessage = false;
        if (pending && "onClientText" in pending && message.includes(pending.onClientText)) {
          pending = undefined;
          return cut();
        }
        upstream.write(message);
      }
    });
    let fromServer: Buffer = Buffer.alloc(0);
    upstream.on("data", (data: Buffer) => {
      const framed = takeMessages(Buffer.concat([fromServer, data]), () => true);
      fromServer = framed.rest;
      let out: Buffer = Buffer.alloc(0);
      for (const message of framed.messages) {
        out = Buffer.concat([out, message]);
        if (pending && "afterServerMessage" in pending && message[0] === pending.afterServerMessage.charCodeAt(0)) {
          pending = undefined;
          return cut(out);
        }
      }
      if (out.length) client.write(out);
    });
    upstream.on("close", () => client.destroy());
    client.on("close", () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));

  return {
    port: (server.address() as { port: number }).port,
    cutNext(cut) {
      pending = cut;
    },
    setStartingUp(value) {
      isStartingUp = value;
    },
    cuts: () => cutCount,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
