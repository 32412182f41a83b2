"""Model files written as a user would (``phasekit solve file.py:NAME``), shared by the CLI tests."""
import textwrap

HOPFIELD = textwrap.dedent('''
    import sympy as sp
    from phasekit.theory import E, define_model, log2cosh

    z = sp.Symbol("z", real=True)

    def phi(alpha, beta, m, q, r):
        d = 1 - beta * (1 - q)
        return (-m**2 / 2 - alpha / (2 * beta) * (sp.log(d) - beta * q / d) - alpha * beta * r * (1 - q) / 2
                + E(log2cosh(beta * (m + sp.sqrt(alpha * r) * z)), z) / beta)

    CTRL = {"alpha": (0, 1, 0.05), "beta": dict(low=1.0, high=20.0, closed="neither", default=4.0)}
    ORD = {"m": (-1, 1, 0.99), "q": dict(low=0, high=1, closed="neither", default=0.99), "r": (0, 50, 1.0)}
    HOP = define_model("user.hopfield", phi, control=CTRL, order=ORD)
    HOP_QR = define_model("user.hopfield_qr", phi, control=CTRL, order=ORD, conjugates=[("q", "r")])

    # the same with the retrieval field decoupled, t = m (four order parameters, complete
    # fixed-point form): phi4 = -t^2/2 + t m - m mhat + (1/beta) E ln 2cosh(beta (mhat + ...))
    def phi4(alpha, beta, m, mhat, q, r, t):
        return phi(alpha, beta, mhat, q, r) + mhat**2 / 2 - t**2 / 2 + t * m - m * mhat

    ORD4 = {"m": (-1, 1, 0.99), "mhat": (-10, 10, 0.99), "q": dict(low=0, high=1, closed="neither", default=0.99),
            "r": (0, 50, 1.0), "t": (-1, 1, 0.99)}
    HOP4 = define_model("user.hopfield4", phi4, control=CTRL, order=ORD4, conjugates=[("m", "mhat"), ("q", "r")])
''')
