import { SingleFlight } from '../src/kernel/single-flight';

/** Rounds that end when the test says so: `rounds[i]` is the i-th round started. */
function heldRounds() {
  const rounds: { resolve: (n: number) => void; reject: (err: unknown) => void }[] = [];
  const round = jest.fn(() => new Promise<number>((resolve, reject) => rounds.push({ resolve, reject })));
  return { round, rounds };
}

/** Lets every promise continuation that can run, run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('SingleFlight', () => {
  it('runs one round at a time: a call during a run gets that run', async () => {
    const { round, rounds } = heldRounds();
    const flight = new SingleFlight(round);
    expect(flight.current).toBeUndefined();
    const first = flight.run();
    const second = flight.run();
    expect(second).toBe(first);
    expect(flight.current).toBe(first);
    expect(round).toHaveBeenCalledTimes(1);
    rounds[0].resolve(3);
    await settle();
    // The call during the round asked for one more.
    expect(round).toHaveBeenCalledTimes(2);
    rounds[1].resolve(4);
    await expect(first).resolves.toBe(7);
    expect(flight.current).toBeUndefined();
    expect(round).toHaveBeenCalledTimes(2);
  });

  it('coalesces any number of calls during a round into one more round', async () => {
    const { round, rounds } = heldRounds();
    const flight = new SingleFlight(round);
    const runs = [flight.run(), flight.run(), flight.run(), flight.run()];
    rounds[0].resolve(1);
    await settle();
    expect(round).toHaveBeenCalledTimes(2);
    // Calls during the round that follows ask for yet one more.
    runs.push(flight.run(), flight.run());
    rounds[1].resolve(10);
    await settle();
    expect(round).toHaveBeenCalledTimes(3);
    rounds[2].resolve(100);
    expect(await Promise.all(runs)).toEqual(Array(6).fill(111));
    await settle();
    expect(round).toHaveBeenCalledTimes(3);
  });

  it('starts a new run when called after the last one ended', async () => {
    const { round, rounds } = heldRounds();
    const flight = new SingleFlight(round);
    const first = flight.run();
    rounds[0].resolve(2);
    expect(await first).toBe(2);
    // Cleared before the caller resumes: an awaiting caller that runs again starts afresh.
    expect(flight.current).toBeUndefined();
    const second = flight.run();
    expect(second).not.toBe(first);
    expect(round).toHaveBeenCalledTimes(2);
    rounds[1].resolve(5);
    expect(await second).toBe(5);
  });

  it('with rerun: false, a call during a run only shares it', async () => {
    const { round, rounds } = heldRounds();
    const flight = new SingleFlight(round, { rerun: false });
    const first = flight.run();
    expect(flight.run()).toBe(first);
    rounds[0].resolve(6);
    expect(await first).toBe(6);
    await settle();
    expect(round).toHaveBeenCalledTimes(1);
  });

  it('tells onError of a failed round, and resolves with the rounds done before it, with no round after', async () => {
    const { round, rounds } = heldRounds();
    const onError = jest.fn();
    const flight = new SingleFlight(round, { onError });
    const run = flight.run();
    flight.run();
    rounds[0].resolve(5);
    await settle();
    flight.run(); // asks for a third round, which the failure cancels
    const failure = new Error('round two failed');
    rounds[1].reject(failure);
    expect(await run).toBe(5);
    expect(onError).toHaveBeenCalledTimes(1);
    expect(onError).toHaveBeenCalledWith(failure);
    await settle();
    expect(round).toHaveBeenCalledTimes(2);
    expect(flight.current).toBeUndefined();
    // The next call starts a run of its own.
    const next = flight.run();
    rounds[2].resolve(1);
    expect(await next).toBe(1);
    expect(onError).toHaveBeenCalledTimes(1);
  });

  it('without onError, the run rejects with the round’s error, and the next call starts afresh', async () => {
    const { round, rounds } = heldRounds();
    const flight = new SingleFlight(round);
    const run = flight.run();
    rounds[0].reject(new Error('no database'));
    await expect(run).rejects.toThrow('no database');
    expect(flight.current).toBeUndefined();
    const next = flight.run();
    rounds[1].resolve(2);
    await expect(next).resolves.toBe(2);
  });

  it('ends the run of a round that throws before returning a promise, and is not stuck on it', async () => {
    let calls = 0;
    const onError = jest.fn();
    const flight = new SingleFlight(
      () => {
        if (++calls === 1) throw new Error('thrown at once');
        return Promise.resolve(9);
      },
      { onError },
    );
    expect(await flight.run()).toBe(0);
    expect(onError).toHaveBeenCalledWith(expect.objectContaining({ message: 'thrown at once' }));
    expect(flight.current).toBeUndefined();
    expect(await flight.run()).toBe(9);
    await expect(
      new SingleFlight(() => {
        throw new Error('thrown, no onError');
      }).run(),
    ).rejects.toThrow('thrown, no onError');
  });

  it('lets a round take a request made during it, and then no round follows for it', async () => {
    const taken: boolean[] = [];
    let release!: () => void;
    const round = jest.fn(async () => {
      if (round.mock.calls.length > 1) return 1;
      await new Promise<void>((resolve) => (release = resolve));
      taken.push(flight.takeRequest(), flight.takeRequest());
      return 1;
    });
    const flight = new SingleFlight(round);
    const run = flight.run();
    await settle();
    flight.run();
    release();
    expect(await run).toBe(1);
    expect(taken).toEqual([true, false]);
    expect(round).toHaveBeenCalledTimes(1);
  });

  it('does not carry a request over from the run before', async () => {
    const { round, rounds } = heldRounds();
    const flight = new SingleFlight(round, { onError: () => undefined });
    const run = flight.run();
    flight.run(); // asked during a round that then fails: that run ends
    rounds[0].reject(new Error('failed'));
    await run;
    const next = flight.run();
    rounds[1].resolve(4);
    expect(await next).toBe(4);
    await settle();
    expect(round).toHaveBeenCalledTimes(2);
    expect(flight.takeRequest()).toBe(false);
  });
});
