import { TimeWindowMax } from './time-window-max';

describe(TimeWindowMax.name, () => {
  let now = 0;
  const make = (): TimeWindowMax => new TimeWindowMax(() => now, 120_000, 3);

  beforeEach(() => {
    now = 1_000_000;
  });

  it('keeps the largest sample', () => {
    const sut = make();
    sut.record(0.2);
    sut.record(0.7);
    sut.record(0.4);

    expect(sut.poll()).toBe(0.7);
  });

  it('keeps a sample for at least two thirds of the window, and forgets it after the whole window', () => {
    const sut = make();
    sut.record(0.9);
    now += 79_999;
    expect(sut.poll()).toBe(0.9);
    now += 40_001;
    expect(sut.poll()).toBe(0);
  });

  it('shows a newer, smaller sample once the larger one has rotated out', () => {
    const sut = make();
    sut.record(0.9);
    now += 50_000;
    sut.record(0.3);
    now += 40_000;
    expect(sut.poll()).toBe(0.9);
    now += 40_000;
    expect(sut.poll()).toBe(0.3);
  });

  it('is 0 after a quiet spell of many windows', () => {
    const sut = make();
    sut.record(5);
    now += 10 * 120_000 + 7;
    expect(sut.poll()).toBe(0);
    sut.record(1);
    expect(sut.poll()).toBe(1);
  });
});
