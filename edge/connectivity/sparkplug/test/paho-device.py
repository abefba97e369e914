# Test device on an independent MQTT stack (Eclipse paho-mqtt for Python): the Node test sends it JSON lines, it reports JSON lines back.
#
# stdin:  {"op": "publish", "topic": "...", "hex": "...", "qos": 0}   payloads arrive already encoded (by Eclipse Tahu)
# stdout: {"event": "connected", "rc": 0} | {"event": "message", "topic": "...", "hex": "..."} | {"event": "published", "topic": "..."}
# argv:   host port username password client_id will_topic will_hex subscribe_topic...
import json
import sys
import threading

import paho.mqtt.client as mqtt

lock = threading.Lock()


def report(**event):
    with lock:
        sys.stdout.write(json.dumps(event) + "\n")
        sys.stdout.flush()


def main():
    host, port, username, password, client_id, will_topic, will_hex, *subscriptions = sys.argv[1:]
    client = mqtt.Client(client_id=client_id, clean_session=True, protocol=mqtt.MQTTv311)
    client.username_pw_set(username, password)
    # Sparkplug: the NDEATH is the will, QoS 1, not retained.
    client.will_set(will_topic, payload=bytes.fromhex(will_hex), qos=1, retain=False)

    def on_connect(c, _userdata, _flags, rc):
        for topic in subscriptions:
            c.subscribe(topic, qos=0)
        report(event="connected", rc=rc)

    def on_message(_c, _userdata, message):
        report(event="message", topic=message.topic, hex=message.payload.hex())

    client.on_connect = on_connect
    client.on_message = on_message
    client.connect(host, int(port), keepalive=30)
    client.loop_start()
    for line in sys.stdin:
        command = json.loads(line)
        if command["op"] == "publish":
            info = client.publish(command["topic"], bytes.fromhex(command["hex"]), qos=command.get("qos", 0))
            info.wait_for_publish()
            report(event="published", topic=command["topic"])
    # stdin closed: the test is done with this device; leave without a DISCONNECT only when killed.
    client.disconnect()
    client.loop_stop()


if __name__ == "__main__":
    main()
