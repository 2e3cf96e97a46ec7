/** The template code contexts are meant for; built on first use when a sandbox asks for it. */
export const codeInterpreterTemplate = 'code-interpreter';

/**
 * Debian's own packages of the Jupyter stack and the data libraries users of
 * code interpreters expect, through the build's egress proxy to Debian's
 * mirrors (allowed for builds by default). The inline backend makes
 * matplotlib figures come back as images without plt.show().
 */
export const codeInterpreterDockerfile = `FROM base
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update -q \\
 && apt-get install -y -q --no-install-recommends \\
      python3-ipykernel python3-jupyter-client python3-matplotlib-inline \\
      python3-numpy python3-pandas python3-scipy python3-matplotlib python3-pil \\
      python3-sympy python3-requests python3-bs4 python3-openpyxl python3-seaborn \\
      fonts-dejavu-core nodejs \\
 && apt-get clean && rm -rf /var/lib/apt/lists/*
ENV MPLBACKEND=module://matplotlib_inline.backend_inline
WORKDIR /work
`;
