// The part of net-snmp (no types of its own) that Pulse and its tests use.
declare module "net-snmp" {
  export interface Varbind {
    oid: string;
    type: number;
    value: unknown;
  }
  export interface User {
    name: string;
    level: number;
    authProtocol?: number;
    authKey?: string;
    privProtocol?: number;
    privKey?: string;
  }
  export interface SessionOptions {
    port?: number;
    trapPort?: number;
    retries?: number;
    timeout?: number;
    transport?: "udp4" | "udp6";
    version?: number;
    /** Hex string (or Buffer): the local engine id, authoritative for traps. */
    engineID?: string | Buffer;
  }
  export interface Session {
    trap(typeOrOid: string | number, varbinds: Varbind[], options: { upTime?: number; agentAddr?: string }, callback: (error: Error | null) => void): Session;
    close(): void;
    on(event: "error", listener: (error: Error) => void): void;
    on(event: "close", listener: () => void): void;
  }
  export function createSession(target: string, community: string, options?: SessionOptions): Session;
  export function createV3Session(target: string, user: User, options?: SessionOptions): Session;

  export interface Notification {
    pdu: { type: number; id: number; varbinds: Varbind[]; scoped: boolean; contextName?: string };
    rinfo: { address: string; family: string; port: number; size: number };
  }
  export interface Authorizer {
    addCommunity(community: string): void;
    addUser(user: User): void;
  }
  export interface Receiver {
    getAuthorizer(): Authorizer;
    close(callback?: () => void): void;
  }
  export function createReceiver(
    options: { port?: number; address?: string | null; transport?: "udp4" | "udp6"; disableAuthorization?: boolean; includeAuthentication?: boolean; engineID?: string },
    callback: (error: Error | null, notification: Notification | null) => void,
  ): Receiver;

  export interface ModuleStore {
    loadFromFile(fileName: string): void;
    getModule(name: string): Record<string, unknown> | undefined;
    translate(oid: string, destinationFormat: string): string;
  }
  export function createModuleStore(options?: { baseModules?: string[] }): ModuleStore;

  export const Version1: number;
  export const Version2c: number;
  export const Version3: number;
  export const ObjectType: Record<string, number>;
  export const PduType: Record<string, number>;
  export const SecurityLevel: { noAuthNoPriv: number; authNoPriv: number; authPriv: number };
  export const AuthProtocols: { md5: number; sha: number; sha224: number; sha256: number; sha384: number; sha512: number };
  export const PrivProtocols: { des: number; aes: number; aes256b: number; aes256r: number };
  export const OidFormat: { oid: string; path: string; module: string };
}
