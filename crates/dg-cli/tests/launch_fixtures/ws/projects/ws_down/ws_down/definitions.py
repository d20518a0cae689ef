import dagster as dg

# Defined (and materialized) by the `ws_up` project.
up = dg.AssetSpec("up")


@dg.asset(ins={"up": dg.AssetIn(key="up")})
def down(up):
    print(f"down got {up}")
    return up + 1


defs = dg.Definitions(assets=[up, down])
