// The Modbus TCP simulator's public face: the slave, its register maps, its fault hooks and MBAP framing for clients.
export { ModbusFrameError, ModbusSlave, startModbusSlave, type Fault, type FaultRule, type ModbusSlaveOptions, type SlaveRequest, type SlaveStats } from './slave.ts'
export { RegisterMap, type Area, type RegisterMapSize, type WriteListener } from './register-map.ts'
export { frameRequest, MbapDecoder, MBAP_HEADER_BYTES } from './mbap.ts'
export { ILLEGAL_DATA_ADDRESS, ILLEGAL_DATA_VALUE, ILLEGAL_FUNCTION, SERVER_DEVICE_FAILURE, GATEWAY_TARGET_FAILED } from './pdu.ts'
