# Python under the preload: threads allocating large buffers at once, and multiprocessing pools
# started by fork (the child inherits the preload's state mid-use) and by spawn (a fresh
# interpreter that loads it anew). Prints digests only: the same with and without the preload.
import hashlib
import multiprocessing
import sys
import threading


def digest_of_blocks(seed):
    # Buffers from 1 to 48 MiB, across the 2 MiB threshold, filled, grown and hashed.
    digest = hashlib.sha256()
    for round in range(6):
        size = ((seed * 7 + round * 13) % 48 + 1) << 20
        block = bytearray(size)
        block[:: 1 << 12] = bytes([(seed + round) % 251]) * len(block[:: 1 << 12])
        block.extend(b"x" * (3 << 20))
        digest.update(hashlib.sha256(block).digest())
        del block
    return digest.hexdigest()[:16]


def in_threads(count):
    results = [None] * count

    def run(index):
        results[index] = digest_of_blocks(index)

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def in_processes(method, count):
    context = multiprocessing.get_context(method)
    with context.Pool(2) as pool:
        return pool.map(digest_of_blocks, range(count))


if __name__ == "__main__":
    print("threads:", " ".join(in_threads(4)))
    # A fork while another thread allocates: the child's allocator state must be whole.
    busy = threading.Thread(target=digest_of_blocks, args=(99,))
    busy.start()
    print("fork:", " ".join(in_processes("fork", 4)))
    busy.join()
    print("spawn:", " ".join(in_processes("spawn", 3)))
    sys.stdout.flush()
