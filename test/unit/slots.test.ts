import test from "ava";
import { Slots } from "../../triggers/lossless/slots.ts";

test("the cap on batches in flight: never more than its size at once, each release lets one waiter in", async (t) => {
  const slots = new Slots(2);
  let running = 0;
  let most = 0;
  const order: number[] = [];
  const batch = async (n: number) => {
    const release = await slots.take();
    running += 1;
    most = Math.max(most, running);
    await new Promise((resolve) => setTimeout(resolve, 5));
    order.push(n);
    running -= 1;
    release();
    release(); // a second release of the same slot frees nothing more
  };
  await Promise.all([1, 2, 3, 4, 5, 6, 7].map(batch));
  t.is(most, 2);
  t.deepEqual(
    [...order].sort((a, b) => a - b),
    [1, 2, 3, 4, 5, 6, 7],
  );
  // All released: the full size is free again, and no more.
  const a = await slots.take();
  const b = await slots.take();
  let third = false;
  const c = slots.take().then((release) => {
    third = true;
    return release;
  });
  await new Promise((resolve) => setTimeout(resolve, 10));
  t.false(third, "a third take waits while two are held");
  a();
  (await c)();
  t.true(third);
  b();
});
