"""Model-predictive control with the planners: the driver that plans one episode into a
demonstration file (`driver`), and `dexterous plan`'s runner of many episodes, in this
process or on Ray (`runner`). The file format they write is `dexterous.demos`'."""
