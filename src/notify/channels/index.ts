// Every channel type Pulse can send through, registered in one list. A new
// type is one file in this folder plus a line here (see docs/ARCHITECTURE.md).
import type { ChannelType } from "../channel.ts";
import { webhook } from "./webhook.ts";

export const CHANNEL_TYPES: Record<string, ChannelType<any, any>> = {
  [webhook.type]: webhook,
};
