// titan-secrets: declares and rotates every secret of the Titan trading
// system. The model (generations, verifiers and presenters, stages) is in
// model/ (pure); components/ turns its plan into resources.
// See docs/DESIGN.md and README.md.
import { titanSecretsProgram } from "./components/program";

export = titanSecretsProgram().then((r) => r.outputs);
