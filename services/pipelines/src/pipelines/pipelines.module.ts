import { Module } from '@nestjs/common';
import { PipelineResolver } from './pipeline.resolver';
import { PipelineService } from './pipeline.service';
import { PipelinesResponder } from './pipelines.responder';
import { StageTypesResolver } from './stage-types.resolver';

@Module({ providers: [PipelineService, PipelineResolver, StageTypesResolver, PipelinesResponder] })
export class PipelinesModule {}
