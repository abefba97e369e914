"""A Modbus RTU server from Debian's pymodbus on a serial line, as an independent PLC for Takt's RTU collector tests.

Usage: python3 pymodbus_rtu_server.py SERIAL_PATH BAUD PARITY(N|E|O)
Unit 1 holds the same map as pymodbus_server.py: state=2 at holding register 0, good count 1234
(uint32) at 2, reject count 5 at 4, cycle time 12.5 (float32) at 10, input register 20 = 653,
coil 0 on. Unit 2, a second machine on the same line, is the same with state=3 (setup).
Addresses past 99 answer exception 2 (illegal data address).
"""
import logging
import struct
import sys

from pymodbus.datastore import ModbusSequentialDataBlock, ModbusServerContext, ModbusSlaveContext
from pymodbus.server import StartSerialServer
from pymodbus.transaction import ModbusRtuFramer

logging.basicConfig(level=logging.CRITICAL)
# pymodbus logs every exception it answers at ERROR through its own handler; those are the test's intent, not errors.
logging.getLogger("pymodbus").setLevel(logging.CRITICAL)


def machine(state):
    hr = [0] * 100
    hr[0] = state
    hr[2], hr[3] = 0, 1234
    hr[4], hr[5] = 0, 5
    hr[10], hr[11] = struct.unpack(">HH", struct.pack(">f", 12.5))
    ir = [0] * 100
    ir[20] = 653
    co = [False] * 100
    co[0] = True
    return ModbusSlaveContext(
        di=ModbusSequentialDataBlock(0, [False] * 100),
        co=ModbusSequentialDataBlock(0, co),
        hr=ModbusSequentialDataBlock(0, hr),
        ir=ModbusSequentialDataBlock(0, ir),
        zero_mode=True,
    )


path, baud, parity = sys.argv[1], int(sys.argv[2]), sys.argv[3]
context = ModbusServerContext(slaves={1: machine(2), 2: machine(3)}, single=False)
print("ready", flush=True)
StartSerialServer(context=context, framer=ModbusRtuFramer, port=path, baudrate=baud, parity=parity, bytesize=8, stopbits=1)
