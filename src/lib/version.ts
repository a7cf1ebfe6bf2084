// The version Pulse reports: package.json's, plus the commit when the build stamped one.
import pkg from "../../package.json" with { type: "json" };

declare const PULSE_BUILD_COMMIT: string | undefined;

export const VERSION: string = pkg.version;
export const COMMIT: string = typeof PULSE_BUILD_COMMIT === "string" ? PULSE_BUILD_COMMIT : "source";
