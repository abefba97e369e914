// Topic matching and subscription containment, on both sides of every MQTT wildcard rule.
import t from 'tap'
import { expandPattern, filterWithin, topicMatches } from './topic-acl.ts'

t.test('topic matching follows MQTT-4.7', async (t) => {
  const yes: Array<[string, string]> = [
    ['a/b/c', 'a/b/c'],
    ['a/+/c', 'a/b/c'],
    ['a/#', 'a/b/c'],
    ['a/#', 'a'],
    ['#', 'a/b'],
    ['+/+', 'a/b'],
    ['a/+', 'a/'],
  ]
  const no: Array<[string, string]> = [
    ['a/b/c', 'a/b'],
    ['a/b', 'a/b/c'],
    ['a/+/c', 'a/b/d'],
    ['a/+', 'a/b/c'],
    ['#', '$SYS/broker'],
    ['+/broker', '$SYS/broker'],
    ['b/#', 'a/b'],
  ]
  for (const [f, topic] of yes) t.ok(topicMatches(f, topic), `${f} matches ${topic}`)
  for (const [f, topic] of no) t.notOk(topicMatches(f, topic), `${f} does not match ${topic}`)
})

t.test('a subscription is allowed only inside an allowed pattern', async (t) => {
  t.ok(filterWithin('acme/#', 'acme/l1/#'))
  t.ok(filterWithin('acme/#', 'acme/+/state'))
  t.ok(filterWithin('acme/+/state', 'acme/wc1/state'))
  t.ok(filterWithin('acme/+/state', 'acme/+/state'))
  t.notOk(filterWithin('acme/+/state', 'acme/#'), 'a wider filter is refused')
  t.notOk(filterWithin('acme/+/state', 'acme/wc1/+'))
  t.notOk(filterWithin('acme/l1/#', 'acme/+/x'), 'a + over a fixed level is refused')
  t.notOk(filterWithin('acme/l1', 'acme/l1/x'))
  t.notOk(filterWithin('acme/l1/x', 'acme/l1'))
})

t.test('patterns name the connecting client', async (t) => {
  t.equal(expandPattern('devices/${username}/#', { username: 'press1', clientId: 'c1' }), 'devices/press1/#')
  t.equal(expandPattern('x/${clientId}', { username: 'u', clientId: 'c9' }), 'x/c9')
})
