// The machine's CPU load, memory and CPU temperature, read on the event loop without spawning anything:
// the kernel's counters through node:os (libuv reads /proc), the temperature from sysfs with async reads.
import { readdirSync } from 'node:fs'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { cpus, freemem, loadavg, totalmem } from 'node:os'

export interface CpuFigures {
  /** Busy share of all cores since the previous reading (since boot at the first), percent. */
  currentLoad: number
  cores: number
  /** The 1-minute load average. */
  avgLoad: number
}

/** CPU time counters summed over every core, in ms: busy (everything but idle) and total; and how many cores. */
export type CpuTimes = { busy: number; total: number; cores: number }

export function cpuTimes(): CpuTimes {
  let busy = 0
  let total = 0
  const all = cpus()
  for (const { times } of all) {
    const sum = times.user + times.nice + times.sys + times.irq + times.idle
    total += sum
    busy += sum - times.idle
  }
  return { busy, total, cores: all.length }
}

/** Load between two readings of the counters; 0 when no time passed (or the counters went back). */
export function loadBetween(before: Omit<CpuTimes, 'cores'>, after: Omit<CpuTimes, 'cores'>): number {
  const total = after.total - before.total
  const busy = after.busy - before.busy
  if (total <= 0 || busy < 0) return 0
  return Math.min(100, (100 * busy) / total)
}

export class CpuLoad {
  #last: Omit<CpuTimes, 'cores'> = { busy: 0, total: 0 }

  read(): CpuFigures {
    const now = cpuTimes()
    const currentLoad = loadBetween(this.#last, now)
    this.#last = now
    return { currentLoad, cores: now.cores, avgLoad: loadavg()[0]! }
  }
}

/** Total and available memory in bytes (available as the kernel estimates it: MemAvailable on Linux). */
export function memoryFigures(): { total: number; available: number } {
  return { total: totalmem(), available: freemem() }
}

const thermalZone = (entry: string) => entry.startsWith('thermal_zone')
const hwmonInput = (file: string) => /^temp\d+_input$/.test(file)

/** Whether sysfs under `root` has any temperature sensor at all (none on a VM or in a container); read once, at start. */
export function hasTemperatureSensor(root = '/sys'): boolean {
  const entries = (dir: string) => {
    try {
      return readdirSync(dir)
    } catch {
      return []
    }
  }
  const hwmonDir = join(root, 'class', 'hwmon')
  if (entries(join(root, 'class', 'thermal')).some(thermalZone)) return true
  return entries(hwmonDir).some((h) => entries(join(hwmonDir, h)).some(hwmonInput))
}

// hwmon drivers that report the CPU package or die (Intel, AMD, ARM SoCs), in order of preference.
const cpuHwmon = ['coretemp', 'k10temp', 'zenpower', 'cpu_thermal', 'cpu-thermal', 'soc_thermal', 'scpi_sensors']

async function readText(file: string): Promise<string | null> {
  try {
    return (await readFile(file, 'utf8')).trim()
  } catch {
    return null
  }
}

async function list(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))
  } catch {
    return []
  }
}

const celsius = (text: string | null): number | null => {
  const milli = text === null ? NaN : Number(text)
  return Number.isFinite(milli) ? milli / 1000 : null
}

/**
 * The CPU temperature in °C from sysfs under `root` (`/sys` on a real machine): a CPU hwmon
 * driver's first input, else a CPU or SoC thermal zone, else the first thermal zone; null when none reads.
 */
export async function cpuTemperature(root = '/sys'): Promise<number | null> {
  const hwmonDir = join(root, 'class', 'hwmon')
  const hwmons: Array<{ dir: string; name: string }> = []
  for (const h of await list(hwmonDir)) hwmons.push({ dir: join(hwmonDir, h), name: (await readText(join(hwmonDir, h, 'name'))) ?? '' })
  for (const driver of cpuHwmon) {
    for (const h of hwmons.filter((x) => x.name === driver)) {
      const inputs = (await list(h.dir)).filter(hwmonInput)
      for (const input of inputs) {
        const t = celsius(await readText(join(h.dir, input)))
        if (t !== null) return t
      }
    }
  }
  const thermalDir = join(root, 'class', 'thermal')
  const zones: Array<{ dir: string; type: string }> = []
  for (const z of (await list(thermalDir)).filter(thermalZone)) zones.push({ dir: join(thermalDir, z), type: (await readText(join(thermalDir, z, 'type'))) ?? '' })
  const preferred = [...zones.filter((z) => /x86_pkg_temp|cpu|soc/i.test(z.type)), ...zones]
  for (const z of preferred) {
    const t = celsius(await readText(join(z.dir, 'temp')))
    if (t !== null) return t
  }
  return null
}
