"""A Modbus TCP server from Debian's pymodbus, as an independent PLC for Takt's collector tests.

Usage: python3 pymodbus_server.py PORT
Holding registers 0..99: state=2 at 0, good count 1234 (uint32) at 2, reject count 5 at 4,
cycle time 12.5 (float32) at 10. Input register 20 = 653 (temperature x10). Coil 0 = on.
Addresses past 99 answer exception 2 (illegal data address).
"""
import logging
import struct
import sys

from pymodbus.datastore import ModbusSequentialDataBlock, ModbusServerContext, ModbusSlaveContext
from pymodbus.server import StartTcpServer

logging.basicConfig(level=logging.ERROR)

port = int(sys.argv[1])
hr = [0] * 100
hr[0] = 2
hr[2], hr[3] = 0, 1234
hr[4], hr[5] = 0, 5
hi, lo = struct.unpack(">HH", struct.pack(">f", 12.5))
hr[10], hr[11] = hi, lo
ir = [0] * 100
ir[20] = 653
co = [False] * 100
co[0] = True
store = ModbusSlaveContext(
    di=ModbusSequentialDataBlock(0, [False] * 100),
    co=ModbusSequentialDataBlock(0, co),
    hr=ModbusSequentialDataBlock(0, hr),
    ir=ModbusSequentialDataBlock(0, ir),
    zero_mode=True,
)
print("ready", flush=True)
# Reuse the address, as a PLC coming back after a power cycle can: the killed process leaves connections in FIN_WAIT.
StartTcpServer(context=ModbusServerContext(slaves=store, single=True), address=("127.0.0.1", port), allow_reuse_address=True)
