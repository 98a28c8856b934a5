// Types of tests/browser/static-host.mjs for the TypeScript specs that start it.
import type { Server } from "node:http";

export const LAB_PLACEHOLDER: string;
export const ISOLATION_HEADERS: Record<string, string>;
export function startStaticHost(options: {
  port: number; dir: string; headers?: "none" | "isolation"; base?: string; lab?: string;
}): Promise<Server>;
