/**
 * Liquid's limits and HTML escaping: a template cannot make workflow code
 * build a huge value (memory), be arbitrarily long (parse), or spin (render
 * time); output placed in an HTML parameter is escaped unless `| raw`.
 */
import { definitionSchema } from '../../src/interpreter/definition';
import { LIQUID_LIMITS, LiquidLimitError, LiquidRenderError, LiquidSyntaxError, compileLiquid, renderLiquid } from '../../src/interpreter/liquid';
import { planStep } from '../../src/interpreter/planner';
import { buildProgram } from '../../src/interpreter/program';
import { RunData } from '../../src/interpreter/run-data';
import { StepError } from '../../src/interpreter/errors';

describe('Liquid limits', () => {
  it('refuses a range that would build more elements than the memory limit, before building it', () => {
    const source = `{% for i in (1..${LIQUID_LIMITS.memoryUnits * 10}) %}x{% endfor %}`;
    let thrown: unknown;
    try {
      renderLiquid(source, {});
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(LiquidLimitError);
    expect(thrown).toBeInstanceOf(LiquidRenderError);
    expect((thrown as Error).message).toMatch(/memory limit exceeded/);
  });

  it('counts the memory of nested loops together: many small ranges add up', () => {
    // 1,000 ranges of 1,000: each alone is within the limit, together five times over it.
    const source = '{% for i in (1..1000) %}{% assign r = (1..1000) %}{% endfor %}{{ r | size }}';
    expect(renderLiquid('{% for i in (1..10) %}{% assign r = (1..1000) %}{% endfor %}{{ r | size }}', {})).toBe('1000');
    expect(() => renderLiquid(source, {})).toThrow(/memory limit exceeded/);
  });

  it('refuses joins and padding that build a huge string', () => {
    const data = { items: Array.from({ length: 1000 }, () => 'x'.repeat(1000)) };
    // One join of 1,000 x 1,000 characters charges 1 M, five times the limit.
    const source = '{% for i in (1..20) %}{{ items | join: "," | size }}{% endfor %}';
    expect(() => renderLiquid(source, data)).toThrow(/memory limit exceeded/);
  });

  it('stops a render that runs past its time limit (outside workflow code)', () => {
    const data = { items: Array.from({ length: 3000 }, (_, i) => i) };
    // 27 billion iterations over the input's own list: no allocation, only time.
    const source = '{% for a in items %}{% for b in items %}{% for c in items %}{% endfor %}{% endfor %}{% endfor %}';
    expect(() => renderLiquid(source, data)).toThrow(/render limit exceeded/);
  });

  it('refuses a template longer than the parse limit as a syntax error (so it cannot be saved)', () => {
    const source = `{{ trigger.name }}${'x'.repeat(LIQUID_LIMITS.parseChars)}`;
    expect(() => compileLiquid(source)).toThrow(LiquidSyntaxError);
    expect(() => compileLiquid(source)).toThrow(/longer than 100000 characters/);
  });

  it('still renders ordinary templates and loops', () => {
    expect(renderLiquid('{% for i in (1..3) %}{{ i }}{% endfor %} {{ name }}', { name: 'Ann' })).toBe('123 Ann');
  });

  it('turns a limit into an Expression failure of the step when it happens in a run', () => {
    const definition = definitionSchema.parse({
      trigger: { type: 'api' },
      steps: [{ id: 'end', type: 'end', outcome: 'failed', reason: '{% for i in (1..999999999) %}{{ i }}{% endfor %}' }],
    });
    const data = new RunData({}, { id: 'run_x', workflowId: 'w', version: 1, triggerType: 'api', startedAt: '2026-01-01T00:00:00Z' });
    let thrown: unknown;
    try {
      planStep(buildProgram(definition), 'end', data, Date.parse('2026-01-01T00:00:00Z'));
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(StepError);
    expect((thrown as Error).message).toMatch(/memory limit exceeded/);
  });
});

describe('Liquid in HTML parameters', () => {
  const trigger = { name: '<i>VIP</i> & co', note: '<b>bold</b>' };
  const plan = (params: Record<string, unknown>, action = 'send_email') => {
    const definition = definitionSchema.parse({
      trigger: { type: 'api' },
      steps: [{ id: 'mail', type: 'action', action, params }],
    });
    const data = new RunData(trigger, { id: 'run_x', workflowId: 'w', version: 1, triggerType: 'api', startedAt: '2026-01-01T00:00:00Z' });
    const command = planStep(buildProgram(definition), 'mail', data, Date.parse('2026-01-01T00:00:00Z'));
    if (command.kind !== 'action') throw new Error('expected an action');
    return command.params;
  };

  it("escapes output in send_email's html body, and leaves the text body and subject as they are", () => {
    const params = plan({
      to: 'a@example.org',
      subject: 'Hello {{ trigger.name }}',
      text: 'Hello {{ trigger.name }}',
      html: '<p>Hello {{ trigger.name }}</p>',
    });
    expect(params.html).toBe('<p>Hello &lt;i&gt;VIP&lt;/i&gt; &amp; co</p>');
    expect(params.text).toBe('Hello <i>VIP</i> & co');
    expect(params.subject).toBe('Hello <i>VIP</i> & co');
  });

  it('lets the author insert markup on purpose with | raw', () => {
    expect(plan({ html: '<p>{{ trigger.note | raw }} {{ trigger.note }}</p>' }).html).toBe('<p><b>bold</b> &lt;b&gt;bold&lt;/b&gt;</p>');
  });

  it("escapes send_inquiry_link_email's html too, and no other action's parameters", () => {
    expect(plan({ html: '{{ trigger.name }}' }, 'send_inquiry_link_email').html).toBe('&lt;i&gt;VIP&lt;/i&gt; &amp; co');
    expect(plan({ html: '{{ trigger.name }}' }, 'https_request').html).toBe('<i>VIP</i> & co');
    expect(plan({ html: '{{ trigger.name }}' }, 'constructor').html).toBe('<i>VIP</i> & co');
  });
});
