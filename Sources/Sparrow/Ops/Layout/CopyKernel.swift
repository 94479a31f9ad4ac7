/// The kernel of ops that only change a tensor's shape (Reshape, Flatten, Squeeze, Unsqueeze, Identity): the
/// output is a copy of input 0's bytes, because the planner does not alias tensors yet.
enum CopyKernel {
    static func make(_ buffers: OpBuffers, bytes: Int) -> Kernel {
        let copy = RowBlockCopy(copying: bytes, from: buffers.inputs[0]!, to: buffers.outputs[0],
                                threadCount: buffers.pool.threadCount)
        let pool = buffers.pool
        let loop = copy.loop(pool: pool)
        return { loop.run() }
    }
}
