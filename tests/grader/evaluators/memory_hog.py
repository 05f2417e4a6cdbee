# Allocates far more than it may: for the memory limit (Python reports MemoryError).
print("progress 1 allocating", flush=True)
blocks = []
while True:
    blocks.append(bytearray(64 * 1024 * 1024))
