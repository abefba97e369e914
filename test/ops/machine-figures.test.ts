// The machine's figures read in process: CPU load between two readings of the kernel's counters, memory, and the CPU temperature from a sysfs tree (real files in a scratch directory shaped like /sys).
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { CpuLoad, cpuTemperature, cpuTimes, hasTemperatureSensor, loadBetween, memoryFigures } from '../../edge/health/machine-figures.ts'
import { scratchDir } from '../helpers/gateway.ts'

t.test('CPU load is the busy share of the time between two readings', async (t) => {
  t.equal(loadBetween({ busy: 100, total: 1000 }, { busy: 350, total: 2000 }), 25)
  t.equal(loadBetween({ busy: 0, total: 0 }, { busy: 500, total: 500 }), 100, 'all busy')
  t.equal(loadBetween({ busy: 10, total: 100 }, { busy: 10, total: 100 }), 0, 'no time passed: 0, not NaN')
  t.equal(loadBetween({ busy: 50, total: 100 }, { busy: 40, total: 200 }), 0, 'counters that went back (a CPU taken offline) give 0')

  const load = new CpuLoad()
  const first = load.read()
  t.ok(first.currentLoad >= 0 && first.currentLoad <= 100, `since boot: ${first.currentLoad.toFixed(1)} %`)
  t.ok(first.cores >= 1 && first.cores === cpuTimes().cores && Number.isFinite(first.avgLoad))
  // Keep this thread busy for a while: the share of the next reading cannot be 0.
  const before = cpuTimes()
  const until = performance.now() + 300
  while (performance.now() < until) Math.sqrt(Math.random())
  const busy = load.read()
  t.ok(busy.currentLoad > 0 && busy.currentLoad <= 100, `after 300 ms of work on one core: ${busy.currentLoad.toFixed(1)} %`)
  t.ok(cpuTimes().total > before.total, 'the counters move')
})

t.test('memory: total and available from the kernel', async (t) => {
  const { total, available } = memoryFigures()
  t.ok(total > 0 && available > 0 && available <= total, `${available} of ${total} bytes available`)
})

const sysfs = (t: { teardown(fn: () => void): void }, files: Record<string, string>) => {
  const root = scratchDir(t, 'takt-sysfs-')
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true })
    writeFileSync(join(root, path), `${text}\n`)
  }
  return root
}

t.test('CPU temperature: a CPU hwmon driver first, then a CPU thermal zone, then any zone; none is null', async (t) => {
  const board = {
    'class/hwmon/hwmon0/name': 'acpitz',
    'class/hwmon/hwmon0/temp1_input': '27800',
    'class/hwmon/hwmon1/name': 'nvme',
    'class/hwmon/hwmon1/temp1_input': '39850',
    'class/thermal/thermal_zone0/type': 'acpitz',
    'class/thermal/thermal_zone0/temp': '27800',
    'class/thermal/thermal_zone1/type': 'x86_pkg_temp',
    'class/thermal/thermal_zone1/temp': '51000',
  }
  t.equal(await cpuTemperature(sysfs(t, { ...board, 'class/hwmon/hwmon2/name': 'coretemp', 'class/hwmon/hwmon2/temp1_input': '48500', 'class/hwmon/hwmon2/temp2_input': '47000' })), 48.5, 'the coretemp package input, not the disk or the board')
  t.equal(await cpuTemperature(sysfs(t, { ...board, 'class/hwmon/hwmon2/name': 'k10temp', 'class/hwmon/hwmon2/temp1_input': 'garbage', 'class/hwmon/hwmon2/temp3_input': '61250' })), 61.25, 'an AMD die, skipping an input that does not read as a number')
  t.equal(await cpuTemperature(sysfs(t, board)), 51, 'no CPU hwmon driver: the package thermal zone before the board zone')
  t.equal(await cpuTemperature(sysfs(t, { 'class/thermal/thermal_zone0/type': 'acpitz', 'class/thermal/thermal_zone0/temp': '30000' })), 30, 'only a board zone: that one')
  t.equal(await cpuTemperature(sysfs(t, { 'class/hwmon/hwmon0/name': 'nvme', 'class/hwmon/hwmon0/temp1_input': '39850' })), null, 'only a disk sensor: no CPU figure is made up')
  t.equal(await cpuTemperature(scratchDir(t, 'takt-sysfs-empty-')), null, 'no sysfs at all (a container): null')
})

t.test('a temperature sensor is present with a thermal zone or an hwmon temperature input, and not without', async (t) => {
  t.ok(hasTemperatureSensor(sysfs(t, { 'class/thermal/thermal_zone0/type': 'acpitz' })), 'a thermal zone')
  t.ok(hasTemperatureSensor(sysfs(t, { 'class/hwmon/hwmon0/name': 'nvme', 'class/hwmon/hwmon0/temp1_input': '39850' })), 'an hwmon input, of any driver')
  t.notOk(hasTemperatureSensor(sysfs(t, { 'class/hwmon/hwmon0/name': 'acpi_fan', 'class/hwmon/hwmon0/fan1_input': '1200', 'class/thermal/cooling_device0/type': 'Fan' })), 'a fan and a cooling device are no sensor')
  t.notOk(hasTemperatureSensor(scratchDir(t, 'takt-sysfs-empty-')), 'no sysfs at all')
})
