// The Sparkplug topic namespace and identifier rules, on both sides of each.
import t from 'tap'
import { checkId, nextSeq, parseTopic, topicOf } from './namespace.ts'

t.test('topics are built and parsed as namespace/group/type/edge_node[/device]', async (t) => {
  t.equal(topicOf('Line1', 'NBIRTH', 'gw'), 'spBv1.0/Line1/NBIRTH/gw')
  t.equal(topicOf('Line1', 'DDATA', 'gw', 'filler1'), 'spBv1.0/Line1/DDATA/gw/filler1')
  t.same(parseTopic('spBv1.0/Line1/NDATA/gw'), { groupId: 'Line1', type: 'NDATA', edgeNodeId: 'gw' })
  t.same(parseTopic('spBv1.0/Line 1/DDEATH/gw/filler 1'), { groupId: 'Line 1', type: 'DDEATH', edgeNodeId: 'gw', deviceId: 'filler 1' })
  const refused = ['spBv1.0/STATE/host', 'spAv1.0/Line1/NDATA/gw', 'spBv1.0/Line1/NDATA/gw/dev', 'spBv1.0/Line1/DDATA/gw', 'spBv1.0/Line1/XDATA/gw', 'spBv1.0/Line1/NDATA/gw/a/b', 'spBv1.0//NDATA/gw']
  for (const topic of refused) t.equal(parseTopic(topic), null, `${topic} is not a Sparkplug B edge node or device topic`)
})

t.test('identifiers are UTF-8 without / + #; seq wraps at 255', async (t) => {
  t.doesNotThrow(() => checkId('groupId', 'Plant 1 – Linie 2'))
  for (const bad of ['', 'a/b', 'a+b', 'a#b']) t.throws(() => checkId('edgeNodeId', bad), { message: /is not a Sparkplug identifier/ }, `'${bad}' is refused`)
  t.same([0, 254, 255].map(nextSeq), [1, 255, 0])
})
