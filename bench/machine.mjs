// The CPU that every benchmark table names. Cloud VMs often report a bare "AMD EPYC" or "Intel
// Xeon" for CPUs of different generations, whose SIMD peaks differ, so on Linux the x86 family
// and model numbers are added (AMD family 25 is Zen 3/Zen 4, 26 is Zen 5; Intel's server parts
// are all family 6, told apart by the model number).
import { readFileSync } from "node:fs";
import { cpus } from "node:os";

/** E.g. "AMD EPYC (x86 family 26 model 2; 2 cores)". */
export function cpuDescription() {
  let info = "";
  try {
    info = readFileSync("/proc/cpuinfo", "utf8");
  } catch {
    // not Linux: the model string alone
  }
  const field = (name) => info.match(new RegExp(`^${name}\\s*:\\s*(.*)$`, "m"))?.[1]?.trim();
  const model = field("model name") ?? cpus()[0]?.model ?? "unknown CPU";
  const family = field("cpu family"), number = field("model");
  const x86 = family !== undefined && number !== undefined ? `x86 family ${family} model ${number}; ` : "";
  return `${model} (${x86}${cpus().length} cores)`;
}
