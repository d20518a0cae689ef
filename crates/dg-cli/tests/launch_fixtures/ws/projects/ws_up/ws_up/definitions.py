import dagster as dg


@dg.asset
def up():
    print("up ran")
    return 20


defs = dg.Definitions(assets=[up])
