/**
 * A loopback SMTP server (the `smtp-server` package) that receives what
 * send_email sends: STARTTLS with a fresh self-signed certificate for
 * 127.0.0.1 (or TLS from the first byte with `implicitTls`), AUTH PLAIN and
 * LOGIN checked against one user and password and refused before TLS, and
 * every accepted message parsed with `mailparser` and kept with its session
 * (TLS, user, auth method, envelope). Tests make it answer 421 to the next
 * connections, 550 to chosen recipients, or 535 to a wrong password.
 */
import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import selfsigned from 'selfsigned';
import { SMTPServer, type SMTPServerAuthentication, type SMTPServerSession } from 'smtp-server';

export interface ReceivedMessage {
  parsed: ParsedMail;
  raw: string;
  envelope: { mailFrom: string; rcptTo: string[] };
  secure: boolean;
  tlsProtocol?: string;
  /** The name the client asked for in TLS (SNI): what it verified the certificate against. */
  servername?: string;
  user?: string;
  authMethod?: string;
}

export interface SmtpPeerOptions {
  user: string;
  password: string;
  /** TLS from the first byte (port 465 style) instead of STARTTLS. */
  implicitTls?: boolean;
  /** A relay that offers no STARTTLS and takes AUTH in clear text (what a careless or hostile relay does). */
  plaintextOnly?: boolean;
}

/** A login as the server received it. */
export interface AuthAttempt {
  username: string;
  password: string;
  /** Whether the connection was encrypted when the password arrived. */
  secure: boolean;
}

function replyError(code: number, message: string): Error {
  return Object.assign(new Error(message), { responseCode: code });
}

export class SmtpPeer {
  readonly messages: ReceivedMessage[] = [];
  /** Every AUTH the server received, right or wrong: a password that reached it is in here. */
  readonly authAttempts: AuthAttempt[] = [];
  /** Every connection the client opened, in order, with how it ended. */
  readonly connections: Array<{ at: number; deferred: boolean }> = [];
  /** Recipients answered with 550 at RCPT TO. */
  readonly rejectRecipients = new Set<string>();
  /** The next this-many connections are answered with 421 at the greeting. */
  deferConnections = 0;
  private readonly authMethods = new Map<string, string>();

  private constructor(
    private readonly server: SMTPServer,
    readonly port: number,
    /** PEM of the server's certificate: the `ca` a client needs to trust it. */
    readonly certificate: string,
  ) {}

  static async start(options: SmtpPeerOptions): Promise<SmtpPeer> {
    const pems = await selfsigned.generate([{ name: 'commonName', value: 'localhost' }], {
      keySize: 2048,
      algorithm: 'sha256',
      extensions: [
        { name: 'basicConstraints', cA: false },
        { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
        { name: 'extKeyUsage', serverAuth: true },
        { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] },
      ],
    });
    let peer: SmtpPeer | undefined;
    const server = new SMTPServer({
      secure: options.implicitTls === true,
      key: pems.private,
      cert: pems.cert,
      authMethods: ['PLAIN', 'LOGIN'],
      // AUTH only after TLS: a password never crosses the wire in clear text (unless this peer plays a plaintext relay).
      allowInsecureAuth: options.plaintextOnly === true,
      ...(options.plaintextOnly ? { disabledCommands: ['STARTTLS'] } : {}),
      logger: false,
      onConnect(_session, callback) {
        const deferred = peer!.deferConnections > 0;
        peer!.connections.push({ at: Date.now(), deferred });
        if (deferred) {
          peer!.deferConnections -= 1;
          return callback(replyError(421, 'Service not available, try again later'));
        }
        callback();
      },
      onAuth(auth: SMTPServerAuthentication, session: SMTPServerSession, callback) {
        peer!.authAttempts.push({ username: auth.username ?? '', password: auth.password ?? '', secure: session.secure });
        if (auth.username !== options.user || auth.password !== options.password) {
          return callback(replyError(535, 'Authentication credentials invalid'));
        }
        peer!.authMethods.set(session.id, auth.method);
        callback(null, { user: auth.username });
      },
      onMailFrom(_address, session, callback) {
        if (!session.user) return callback(replyError(530, 'Authentication required'));
        callback();
      },
      onRcptTo(address, _session, callback) {
        if (peer!.rejectRecipients.has(address.address.toLowerCase())) return callback(replyError(550, `Mailbox unavailable: ${address.address}`));
        callback();
      },
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          const raw = Buffer.concat(chunks).toString('utf8');
          simpleParser(raw)
            .then((parsed) => {
              const tls = session.tlsOptions as { version?: string } | undefined;
              peer!.messages.push({
                parsed,
                raw,
                envelope: {
                  mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
                  rcptTo: session.envelope.rcptTo.map((r) => r.address),
                },
                secure: session.secure,
                tlsProtocol: tls?.version,
                servername: (session as { servername?: string }).servername || undefined,
                user: session.user,
                authMethod: peer!.authMethods.get(session.id),
              });
              callback();
            })
            .catch((err: Error) => callback(err));
        });
      },
    });
    server.on('error', () => undefined);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.server.address() as AddressInfo).port;
    peer = new SmtpPeer(server, port, pems.cert);
    return peer;
  }

  reset(): void {
    this.messages.length = 0;
    this.authAttempts.length = 0;
    this.connections.length = 0;
    this.rejectRecipients.clear();
    this.deferConnections = 0;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
