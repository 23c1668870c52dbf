import os from 'node:os'

export interface MachineInfo {
  cores: number
  cpuModel: string
  memoryBytes: number
  node: string
  platform: string
  loadAvg: number[]
}

export function machineInfo (): MachineInfo {
  const cpus = os.cpus()
  return {
    cores: cpus.length,
    cpuModel: (cpus[0]?.model ?? 'unknown').replace(/\s+/g, ' ').trim(),
    memoryBytes: os.totalmem(),
    node: process.version,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    loadAvg: os.loadavg().map((x) => Math.round(x * 100) / 100)
  }
}
