// takt sim: the composition root of the PLC simulators — a scenario's machines served over OPC UA, Modbus TCP and Sparkplug B, with the control endpoint.
import { join, resolve } from 'node:path'
import type { HardwareProfile } from '../hardware-profiles/schema.ts'
import { startControl } from './control.ts'
import { ModbusMachine } from './modbus/machine.ts'
import { LineSimulator, type MachineAdapter } from './runner.ts'
import { checkScenarioFile, describeProblems, type ScenarioMachine } from './scenario.ts'
import { SparkplugDevice } from './sparkplug/device.ts'

export interface RunningSim {
  sim: LineSimulator
  controlUrl: string | null
  stop(): Promise<void>
}

/** Loads and starts a scenario; throws with every problem of a bad scenario. */
export async function startSim(file: string, options: { pkiDir: string; host?: string; log?: (line: string) => void }): Promise<RunningSim> {
  const checked = checkScenarioFile(resolve(file))
  if (!checked.ok) throw new ScenarioError(describeProblems(checked.problems))
  const host = options.host ?? '127.0.0.1'
  // OPC UA is loaded only when a scenario has an OPC UA machine (node-opcua is large).
  const needsOpcua = checked.loaded.scenario.machines.some((m) => m.opcua)
  const opcua = needsOpcua ? await import('./opcua/machine.ts') : null
  const adapter = (m: ScenarioMachine, profile: HardwareProfile): MachineAdapter => {
    if (m.modbus) return new ModbusMachine(m, profile, host)
    if (m.sparkplug) return new SparkplugDevice(m, profile)
    return new opcua!.OpcUaMachine(m, profile, { pkiDir: join(options.pkiDir, m.name), host })
  }
  const sim = new LineSimulator(checked.loaded, adapter)
  const endpoints = await sim.start()
  const control = checked.loaded.scenario.control
  const started = control ? await startControl(sim, control.host, control.port) : null
  const log = options.log ?? (() => {})
  log(`scenario ${checked.loaded.scenario.scenario} (seed ${checked.loaded.scenario.seed}, ${checked.loaded.scenario.timeScale}× real time)`)
  for (const [name, endpoint] of Object.entries(endpoints)) log(`  ${name.padEnd(12)} ${checked.loaded.profiles[name]!.protocol.padEnd(9)} ${endpoint}`)
  if (started) log(`  control      ${started.url}  (GET /status, POST /faults, DELETE /faults/ID, POST /machines/NAME/planned-stop)`)
  return {
    sim,
    controlUrl: started?.url ?? null,
    async stop() {
      if (started) await new Promise<void>((r) => started.server.close(() => r()))
      await sim.stop()
    },
  }
}

export class ScenarioError extends Error {}

export async function runSim(file: string | undefined): Promise<void> {
  if (!file) {
    process.stderr.write('usage: takt sim SCENARIO.yaml   (examples in simulators/scenarios/)\n')
    process.exit(2)
  }
  let running: RunningSim
  try {
    running = await startSim(file, { pkiDir: join(resolve(process.env.TAKT_DATA_DIR || './data'), 'sim-pki'), log: (line) => process.stdout.write(`${line}\n`) })
  } catch (error) {
    if (error instanceof ScenarioError) {
      process.stderr.write(`takt sim: the scenario is not valid:\n${error.message}\n`)
      process.exit(2)
    }
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      process.stderr.write(`takt sim: a port the scenario asks for is in use (${(error as Error).message}); change it in the scenario or use 0 for a free port\n`)
      process.exit(2)
    }
    throw error
  }
  const stop = () => void running.stop().then(() => process.exit(0), () => process.exit(1))
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}
