import { escapeHtml } from '@wingman/protocol';

describe('escapeHtml', () => {
  it('turns every character that could open markup, end a quoted attribute or start an entity into a numeric reference', () => {
    expect(escapeHtml(`<a href="x" title='y'>&amp;</a>`)).toBe('&#60;a href=&#34;x&#34; title=&#39;y&#39;&#62;&#38;amp;&#60;/a&#62;');
  });

  it('leaves other text as it is', () => {
    expect(escapeHtml('wingman http 3000 · café ✓')).toBe('wingman http 3000 · café ✓');
  });
});
