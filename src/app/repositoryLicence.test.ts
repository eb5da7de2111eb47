import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

describe('licences', () => {
  it('the repository is MIT-licensed at its top level', () => {
    const licence = readFileSync('LICENSE', 'utf8');
    expect(licence).toMatch(/^MIT License/);
    expect(licence).toContain('Permission is hereby granted, free of charge');
  });

  it('the README says what the shipped data and models are licensed under', () => {
    const readme = readFileSync('README.md', 'utf8');
    const section = readme.slice(readme.indexOf('## Licence'));
    expect(section).toMatch(/Fashion-MNIST[^]*Zalando SE under the MIT licence/);
    expect(section).toMatch(/models[^]*MIT licence/);
    // The data set's own notice, which its licence requires to travel with it, is shipped.
    expect(existsSync('public/data/fashion-mnist/LICENSE')).toBe(true);
    expect(readFileSync('public/data/fashion-mnist/LICENSE', 'utf8')).toContain('Zalando SE');
  });
});
