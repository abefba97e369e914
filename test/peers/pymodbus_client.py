"""Debian's pymodbus as an independent Modbus TCP client for Takt's simulator tests.

Usage: python3 pymodbus_client.py HOST PORT
Runs a fixed script of reads, writes and refused requests against units 1 and 2 and prints one
JSON object with what came back; an exception answer is {"exception": code}.
"""
import json
import logging
import sys

from pymodbus.client import ModbusTcpClient

logging.basicConfig(level=logging.CRITICAL)


def result(response, field):
    if response.isError():
        return {"exception": getattr(response, "exception_code", None), "text": str(response)}
    values = getattr(response, field)
    return [bool(v) for v in values] if field == "bits" else list(values)


def written(response):
    if response.isError():
        return {"exception": getattr(response, "exception_code", None), "text": str(response)}
    return "ok"


client = ModbusTcpClient(sys.argv[1], port=int(sys.argv[2]), timeout=2)
if not client.connect():
    print(json.dumps({"error": "cannot connect"}))
    sys.exit(1)
out = {
    "holding": result(client.read_holding_registers(0, 10, slave=1), "registers"),
    "input": result(client.read_input_registers(5, 3, slave=1), "registers"),
    "coils": result(client.read_coils(0, 10, slave=1), "bits"),
    "discrete": result(client.read_discrete_inputs(0, 10, slave=1), "bits"),
    "unit2": result(client.read_holding_registers(0, 2, slave=2), "registers"),
    "write_register": written(client.write_register(100, 4242, slave=1)),
    "write_registers": written(client.write_registers(200, [1, 2, 3], slave=1)),
    "write_coil": written(client.write_coil(7, True, slave=1)),
    "write_coils": written(client.write_coils(20, [True, False, True], slave=1)),
    "after_writes": result(client.read_holding_registers(200, 3, slave=1), "registers"),
    "bad_address": result(client.read_holding_registers(9999, 2, slave=1), "registers"),
    "bad_quantity": result(client.read_holding_registers(0, 126, slave=1), "registers"),
    "unknown_unit": result(client.read_holding_registers(0, 1, slave=9), "registers"),
}
client.close()
print(json.dumps(out))
