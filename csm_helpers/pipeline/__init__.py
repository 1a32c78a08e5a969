"""csm run and csm batch: plan, execute (papermill, warm kernels), export, commit, index."""
