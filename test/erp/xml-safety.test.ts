// Safe XML reading and writing, without a gateway: well-formedness, no DTD or entities, limits, positions, escaping, B2MML value types.
import t from 'tap'
import { atOf, Reader } from '../../edge/erp/read.ts'
import { renderXml, x, xa } from '../../edge/erp/xml-write.ts'
import { parseXml, pathOf, XmlRefusal } from '../../edge/erp/xml.ts'

function refusal(text: string, limits?: Parameters<typeof parseXml>[1]): XmlRefusal {
  try {
    parseXml(text, limits)
  } catch (error) {
    if (error instanceof XmlRefusal) return error
    throw error
  }
  throw new Error('the document was accepted')
}

const billionLaughs = `<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol9 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<lolz>&lol9;</lolz>`

t.test('a well-formed document becomes a tree with namespaces, attributes, text and start-tag positions', async (t) => {
  const root = parseXml('<?xml version="1.0" encoding="utf-8"?>\n<a xmlns="urn:b2" k="v">\n  <b>one &amp; two &#65;</b>\n  <b><![CDATA[<raw>]]></b>\n  <e:x xmlns:e="urn:ext"/>\n</a>')
  t.equal(root.name, 'a')
  t.equal(root.ns, 'urn:b2')
  t.same(root.attrs, { k: 'v' })
  const [b1, b2, ext] = root.children
  t.equal(b1!.text, 'one & two A', 'the five XML entities and character references are read')
  t.equal(b2!.text, '<raw>', 'CDATA is text')
  t.same([b1!.line, b1!.column, b2!.line, ext!.line, ext!.column], [3, 3, 4, 5, 3])
  t.equal(ext!.ns, 'urn:ext')
  t.equal(pathOf(b2!), '/a/b[2]')
  t.equal(pathOf(ext!), '/a/x')
})

t.test('elements taken while the document streams keep their paths: [n] where a name repeats, also among siblings read later', async (t) => {
  const taken: string[] = []
  const refs: Array<ReturnType<typeof atOf>> = []
  const root = parseXml('<r><q><s/><s/><u/></q><q><s/></q></r>', undefined, (el) => {
    if (el.name !== 'q') return false
    for (const c of el.children) refs.push(atOf(c))
    taken.push(pathOf(el))
    return true
  })
  t.same(root.children, [], 'taken elements are dropped from the tree')
  t.same(taken, ['/r/q', '/r/q[2]'], 'the first q did not know yet that a second would come')
  t.same(refs.map((r) => r.path), ['/r/q[1]/s[1]', '/r/q[1]/s[2]', '/r/q[1]/u', '/r/q[2]/s'], 'read later, the paths know it')
})

t.test('any DOCTYPE is refused: billion laughs, an external entity, an internal one', async (t) => {
  const laughs = refusal(billionLaughs)
  t.equal(laughs.code, 'xml_doctype_refused')
  t.match(laughs.message, /DOCTYPE/)
  t.same([laughs.line, laughs.column], [2, 1], 'refused where the DOCTYPE begins, before anything in it is read')
  const external = refusal('<?xml version="1.0"?>\n<!DOCTYPE a [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n<a>&xxe;</a>')
  t.equal(external.code, 'xml_doctype_refused')
  const publicDtd = refusal('<!DOCTYPE a PUBLIC "-//X//DTD X//EN" "http://example.com/x.dtd"><a/>')
  t.equal(publicDtd.code, 'xml_doctype_refused')
})

t.test('an entity that is not one of the five is not expanded', async (t) => {
  const e = refusal('<a>\n  <b>&nbsp;</b>\n</a>')
  t.equal(e.code, 'xml_malformed')
  t.match(e.message, /undefined entity/)
  t.equal(e.line, 2)
})

t.test('malformed XML names what is wrong and where', async (t) => {
  const cases: Array<[string, RegExp, number]> = [
    ['<a>\n<b>\n</a>', /unexpected close tag/, 3],
    ['<a><b></b>', /unclosed tag/, 1],
    ['<a x="1" x="2"/>', /duplicate attribute/, 1],
    [`<a ${Array.from({ length: 50_000 }, (_, i) => `a${i}="${i}"`).join(' ')} a7="again"/>`, /duplicate attribute a7/, 1],
    ['', /no root element|document must contain a root element/, 1],
    ['<a/><b/>', /only one root/, 1],
    ['<p:a/>', /unbound namespace prefix/, 1],
    ['<a p:x="1"/>', /unbound namespace prefix p on attribute/, 1],
    ['<a x=1/>', /start tag <a> is malformed/, 1],
    ['<a x="<"/>', /start tag <a> is malformed/, 1],
    ['<a>\n  x & y</a>', /'&' that starts no entity/, 2],
    ['<a>&#0;</a>', /character XML does not allow/, 1],
    ['<a>]]></a>', /']]>' in character data/, 1],
    ['<a>\u0001</a>', /U\+0001 is not allowed/, 1],
    ['<a>\uD800</a>', /U\+D800 is not allowed/, 1],
    ['x<a/>', /text before the root/, 1],
    ['<a/>\nx', /text after the root/, 2],
    ['<a><!-- a -- b --></a>', /'--' inside a comment/, 1],
    ['<a><!-- open</a>', /comment is not closed/, 1],
    ['<a/><?xml version="1.0"?>', /XML declaration may only be at the very start/, 1],
    ['<?xml version="1.0" encoding=utf-8?><a/>', /XML declaration is malformed/, 1],
    ['<![CDATA[x]]><a/>', /CDATA outside the root/, 1],
    ['<a xmlns:p=""/>', /cannot be undeclared/, 1],
    ['<1a/>', /not followed by an element name/, 1],
  ]
  for (const [text, message, line] of cases) {
    const e = refusal(text)
    t.equal(e.code, 'xml_malformed', JSON.stringify(text))
    t.match(e.message, message)
    t.equal(e.line, line)
  }
})

t.test('what XML allows is read: a BOM, comments and instructions, single quotes, line ends, references in attributes, prefixes', async (t) => {
  const root = parseXml("\uFEFF<?xml version='1.0' encoding='UTF-8' standalone='yes'?>\r\n<!-- c --><?app run?>\r\n<p:a xmlns:p='urn:p' xmlns='urn:d' k='x&#10;y\tz' xml:lang='en'>\r\n<b>one\r\ntwo</b><p:c/><b>&#x1F600;</b></p:a>\n<!-- after -->")
  t.same([root.name, root.ns, root.attrs.k, root.line], ['a', 'urn:p', 'x\ny z', 3], 'a literal tab in an attribute is a space, a reference a real newline')
  const [b1, c, b2] = root.children
  t.same([b1!.ns, b1!.text, b1!.line, c!.ns, b2!.text], ['urn:d', 'one\ntwo', 4, 'urn:p', '\u{1F600}'])
  t.equal(parseXml('<a><!----></a>').name, 'a', 'an empty comment')
})

t.test('a declared encoding other than UTF-8 is refused, UTF-8 in any spelling is not', async (t) => {
  t.equal(refusal('<?xml version="1.0" encoding="ISO-8859-1"?><a/>').code, 'xml_encoding_unsupported')
  t.equal(refusal('<?xml version="1.0" encoding="UTF-16"?><a/>').code, 'xml_encoding_unsupported')
  for (const enc of ['UTF-8', 'utf-8', 'utf8']) t.equal(parseXml(`<?xml version="1.0" encoding="${enc}"?><a/>`).name, 'a')
})

t.test('depth and element count are bounded, and the bounds themselves are accepted', async (t) => {
  const nested = (n: number) => '<a>'.repeat(n) + '</a>'.repeat(n)
  t.equal(parseXml(nested(8), { maxDepth: 8, maxElements: 100 }).name, 'a', 'exactly the depth limit')
  const deep = refusal(nested(9), { maxDepth: 8, maxElements: 100 })
  t.equal(deep.code, 'xml_limit_exceeded')
  t.match(deep.message, /deeper than 8/)
  const many = (n: number) => `<r>${'<i/>'.repeat(n - 1)}</r>`
  t.equal(parseXml(many(50), { maxDepth: 8, maxElements: 50 }).children.length, 49)
  t.match(refusal(many(51), { maxDepth: 8, maxElements: 50 }).message, /more than 50 elements/)
})

t.test('written XML escapes text and attributes, drops forbidden characters, and reads back the same', async (t) => {
  const text = renderXml(xa('Root', { note: 'a "quoted" <value> & more' }, x('T', 'x < y & z > w'), x('C', 'bell\u0007'), x('Empty'), null, false, undefined), 'urn:t')
  t.match(text, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<Root xmlns="urn:t" note="a &quot;quoted&quot; &lt;value&gt; &amp; more">/)
  t.match(text, /<Empty\/>/)
  const back = parseXml(text)
  t.equal(back.attrs.note, 'a "quoted" <value> & more')
  t.equal(back.children[0]!.text, 'x < y & z > w')
  t.equal(back.children[1]!.text, 'bell\uFFFD', 'a control character XML cannot hold is replaced')
  t.equal(back.children.length, 3, 'null, false and undefined children are left out')
})

t.test('B2MML values: dateTime needs a zone, durations in days to seconds, decimals, identifiers', async (t) => {
  const doc = parseXml(`<R xmlns="urn:b">
    <Ok>2026-03-01T07:00:00+01:00</Ok><Utc>2026-03-01T06:00:00.5Z</Utc><Local>2026-03-01T06:00:00</Local><Bad>tomorrow</Bad>
    <Id>PO-1/2:3.4_5</Id><Padded>  PO-9
 </Padded><BadId>spaced id</BadId><Long>${'x'.repeat(129)}</Long>
  </R>`)
  const r = new Reader('urn:b')
  t.equal(r.dateTime(doc, 'Ok'), '2026-03-01T06:00:00.000Z', 'an offset is normalized to UTC')
  t.equal(r.dateTime(doc, 'Utc'), '2026-03-01T06:00:00.500Z')
  t.equal(r.dateTime(doc, 'Missing'), null, 'absent is null, not an error')
  t.equal(r.problems.length, 0)
  t.equal(r.dateTime(doc, 'Local'), null)
  t.equal(r.dateTime(doc, 'Bad'), null)
  t.same(r.problems.map((p) => [p.code, p.line]), [['b2mml_value_invalid', 2], ['b2mml_value_invalid', 2]])
  t.match(r.problems[0]!.message, /with a time zone/)
  t.equal(r.id(doc, 'Id', null), 'PO-1/2:3.4_5')
  t.equal(r.id(doc, 'Padded', null), 'PO-9', 'surrounding whitespace is trimmed (xsd token)')
  t.equal(r.id(doc, 'BadId', null), undefined, 'a space inside is not')
  t.equal(r.id(doc, 'Long', null), undefined)
  t.match(r.problems.at(-1)!.message, /at most 128 characters/)
  const d = new Reader('urn:b')
  t.equal(d.duration(doc, 'PT1H30M'), 5400)
  t.equal(d.duration(doc, 'P1DT0.5S'), 86400.5)
  t.equal(d.duration(doc, 'PT0S'), 0)
  for (const bad of ['P1M', 'P1Y', '-PT1H', 'PT', 'P', '1h']) t.equal(d.duration(doc, bad), null, bad)
  t.equal(d.problems.length, 6, 'months and years are refused: their length depends on the date')
  t.equal(d.decimal(doc, '-1.5e3', 'x'), -1500)
  t.equal(d.decimal(doc, '1,5', 'x'), null)
})
